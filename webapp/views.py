from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from annotations.selectors import projects_for_user
from webapp.people.roles import researcher_required


@require_GET
def home(request):
    """Sends each role to its own start page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_researcher:
        return redirect("dashboard")
    return redirect("my_work")


@require_GET
@researcher_required
def dashboard(request):
    projects = projects_for_user(user=request.user).select_related("owner")
    return render(request, "webapp/dashboard.html", {"projects": projects})


@require_GET
@login_required
def my_work(request):
    """An annotator's or participant's list of the projects they have joined."""
    enrollments = request.user.enrollments.select_related("project").order_by("-created_at")
    return render(request, "webapp/my_work.html", {"enrollments": enrollments})
