"""API: complaints."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import Complaint
from marketplace.services import complaints as complaint_services


def _complaints(request):
    return Complaint.objects.filter(user=request.user).select_related(
        "order", "seller__seller_profile"
    )


class ComplaintList(generics.ListAPIView):
    """Your complaints, newest first; POST files one (`file_complaint`; photo optional)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ComplaintSerializer

    def get_queryset(self):
        return _complaints(self.request).order_by("-created_at", "-pk")

    @extend_schema(request=inputs.ComplaintInput, responses={201: out.ComplaintSerializer})
    def post(self, request):
        serializer = validated(inputs.ComplaintInput, request, form_kwargs={"user": request.user})
        data = serializer.validated_data
        complaint = complaint_services.file_complaint(
            user=request.user,
            photo_upload=data.get("photo") or None,
            **{
                name: data[name]
                for name in ("category", "subject", "description", "order", "seller")
            },
        )
        complaint = get_scoped(_complaints(request), pk=complaint.pk)
        return Response(out.ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetail(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ComplaintDetailSerializer

    def get_object(self):
        queryset = _complaints(self.request).prefetch_related("messages")
        return get_scoped(queryset, number=self.kwargs["number"])
