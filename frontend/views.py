"""HTML shells for the single-page frontend; the bundle (frontend/dist) renders each page."""
import json

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from twins.selectors import layouts_for_user


def _shell(request, page: str, **extra):
    user = {"id": request.user.id, "username": request.user.username, "is_staff": request.user.is_staff} if request.user.is_authenticated else None
    return render(request, "frontend/app.html", {"page": page, "user_json": json.dumps(user), **extra})


@ensure_csrf_cookie
def login_page(request):
    return _shell(request, "login")


@ensure_csrf_cookie
@login_required
def home(request):
    return _shell(request, "home")


@ensure_csrf_cookie
@login_required
def layout_page(request, layout_id: int):
    if not layouts_for_user(user=request.user).filter(pk=layout_id).exists():
        raise Http404("No such layout.")
    return _shell(request, "layout", layout_id=layout_id)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
