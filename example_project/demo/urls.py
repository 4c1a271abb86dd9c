from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("uploads/<int:pk>/delete/", views.delete, name="delete"),
]
