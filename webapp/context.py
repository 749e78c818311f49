from django.urls import NoReverseMatch, reverse

RESEARCHER_NAV = [("dashboard", "Projects"), ("studies:study_list", "Studies"), ("ml:models", "Models & jobs"),
                  ("api-docs", "API")]


def navigation(request) -> dict:
    """The researcher's top navigation; sections whose app has no pages are left out."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_researcher):
        return {"nav_links": []}
    links = []
    for name, label in RESEARCHER_NAV:
        try:
            links.append((reverse(name), label))
        except NoReverseMatch:
            continue
    return {"nav_links": links}
