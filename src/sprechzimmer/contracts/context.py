def contract(request):
    """The end date of a cancelled contract, for the banner on every page of the practice. The
    contract comes with the request's user and organisation (accounts/backends.py), one query for
    all three; a user read elsewhere has it read here."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.organisation_id is None:
        return {}
    from sprechzimmer.contracts.models import Contract

    try:
        ends_on = user.organisation.contract.ends_on
    except Contract.DoesNotExist:  # a KV, or a practice made before contracts
        ends_on = None
    return {"contract_ends_on": ends_on}
