from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login-page"),
    path("layouts/<int:layout_id>/", views.layout_page, name="layout-page"),
]
