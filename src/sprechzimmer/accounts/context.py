def practice(request):
    user = getattr(request, "user", None)
    organisation = getattr(user, "organisation", None) if user and user.is_authenticated else None
    return {"practice": organisation, "device": getattr(request, "device", None)}
