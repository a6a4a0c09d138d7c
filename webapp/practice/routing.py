from django.urls import path

from webapp.practice.consumers import PracticeConsumer

websocket_urlpatterns = [path("ws/practice/<int:take_id>/", PracticeConsumer.as_asgi())]
