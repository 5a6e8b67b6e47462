"""The one error of the duty actions: a rule stops the action; the message (German) is shown to the
user as it is."""


class DutyError(Exception):
    """A rule stops the action; the message (German) is shown to the user as it is."""
