"""The password field that cannot leak the typed password (docs/e2ee.md).

Every password input of the product is rendered without a ``name``: a form submission, a
``new FormData(form)`` or any other serialisation of the form leaves it out. Beside it sits a named
hidden input that the browser fills with the authentication secret derived from the password
(``accountforms.js``, ``signup.js``, ``invitation.js``). If the page's script does not run, the
server receives an empty field and refuses it; it never receives the password.
"""

from __future__ import annotations

from django import forms


class DerivedSecretInput(forms.PasswordInput):
    template_name = "accounts/widgets/derived_secret.html"

    def __init__(self, attrs=None):
        super().__init__(attrs, render_value=False)


class DerivedSecretFieldsMixin:
    """Gives every password field of a form the nameless input (for allauth's forms too)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.PasswordInput) and not isinstance(field.widget, DerivedSecretInput):
                field.widget = DerivedSecretInput(attrs=field.widget.attrs)
