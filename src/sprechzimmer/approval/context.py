from django.utils import timezone


def news(request):
    """The operator's current notes (NewsBanner) for every page of a practice's members."""
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user and user.is_authenticated else None
    if organisation is None or organisation.is_kv:
        return {}
    from sprechzimmer.approval.models import NewsBanner

    today = timezone.localdate()
    return {"news_banners": list(NewsBanner.objects.filter(shown_from__lte=today, shown_until__gte=today))}
