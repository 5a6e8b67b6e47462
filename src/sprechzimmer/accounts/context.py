from sprechzimmer.accounts.access import second_factor


def practice(request):
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user and user.is_authenticated else None
    kv = organisation if organisation is not None and organisation.is_kv else None
    duty_doctor = bool(user and user.is_authenticated and hasattr(user, "duty_profile"))
    return {
        "practice": None if kv else organisation,
        "kv": kv,
        "duty_doctor": duty_doctor,
        "device": getattr(request, "device", None),
        # Until the second factor is set up every page but allauth's redirects to its set-up: the
        # navigation and the practice's background script (its API polls would land on the TOTP
        # page and give it a new secret while the user scans the old one) wait for it.
        "second_factor": second_factor(request),
    }
