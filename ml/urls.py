urlpatterns: list = []  # placeholder until the app lands its pages
