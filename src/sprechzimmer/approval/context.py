from django.utils import timezone

from sprechzimmer.prepared import RowsFrom


def _banners():
    from sprechzimmer.approval.models import NewsBanner

    return NewsBanner.objects.all()


# Asked on every page of every practice member: the query built once (sprechzimmer/prepared.py).
# Notes still to come or still shown, newest first; those not yet begun are left out below.
_SHOWN_UNTIL = RowsFrom(_banners, "shown_until__gte")


def news(request):
    """The operator's current notes (NewsBanner) for every page of a practice's members."""
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user and user.is_authenticated else None
    if organisation is None or organisation.is_kv:
        return {}
    today = timezone.localdate()
    return {"news_banners": [banner for banner in _SHOWN_UNTIL.all(today) if banner.shown_from <= today]}
