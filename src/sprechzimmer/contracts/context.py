def contract(request):
    """The end date of a cancelled contract, for the banner on every page of the practice."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.organisation_id is None:
        return {}
    from sprechzimmer.contracts.models import Contract

    # One row at most (one contract per organisation): a slice, not first(), which would order it.
    ends_on = next(
        iter(Contract.objects.filter(organisation_id=user.organisation_id).values_list("ends_on", flat=True)[:1]), None
    )
    return {"contract_ends_on": ends_on}
