"""`/api/audit/`: the factory's hash-chained change log, readable by every member, and its verification."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from twins.api.fields import int_param
from twins.errors import NotFound
from twins.selectors import factories_for_user

from ..audit import audit_entries_for_user, audit_verify
from ..models import AuditEntry
from .serializers import AuditEntrySerializer, AuditVerifySerializer


def entry_repr(entry) -> dict:
    return {
        "seq": entry.seq, "factory": entry.factory_id, "ts": entry.ts.isoformat().replace("+00:00", "Z"), "actor": entry.actor,
        "action": entry.action, "object_type": entry.object_type, "object_id": entry.object_id, "layout": entry.layout_id_ref,
        "data": entry.data, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


class AuditViewSet(viewsets.GenericViewSet):
    """Every change (edits from any path, branch, submit, approve, reject, comments, members, ...) as a
    per-factory hash chain. Any member of the factory may read it (viewers too); non-members get 404."""
    lookup_value_regex = r"\d+"

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for the schema; list() reads through audit_entries_for_user

    @extend_schema(parameters=[
        OpenApiParameter("factory", int, description="Factory id (without it: every factory you belong to)."),
        OpenApiParameter("layout", int), OpenApiParameter("action", str, description="e.g. comment.create; a prefix ending in '.' matches all (comment.)"),
        OpenApiParameter("actor", str), OpenApiParameter("order", str, enum=["desc", "asc"], description="By seq; newest first by default."),
    ])
    def list(self, request):
        qs = audit_entries_for_user(user=request.user)
        factory = int_param(request, "factory")
        if factory is not None:
            if not factories_for_user(user=request.user).filter(pk=factory).exists():
                raise NotFound("No such factory.")
            qs = qs.filter(factory_id=factory)
        layout = int_param(request, "layout")
        if layout is not None:
            qs = qs.filter(layout_id_ref=layout)
        name = request.query_params.get("action")
        if name:
            qs = qs.filter(action__startswith=name) if name.endswith(".") else qs.filter(action=name)
        actor = request.query_params.get("actor")
        if actor:
            qs = qs.filter(actor=actor)
        # seq orders one factory's chain; across factories, time does.
        order = ["ts", "id"] if factory is None else ["seq"]
        if request.query_params.get("order") != "asc":
            order = [f"-{field}" for field in order]
        page = self.paginate_queryset(qs.order_by(*order))
        return self.get_paginated_response([entry_repr(e) for e in page])

    @extend_schema(parameters=[OpenApiParameter("factory", int, required=True)], responses={200: AuditVerifySerializer})
    @action(detail=False, methods=["get"])
    def verify(self, request):
        """Recompute the chain and hold its end against the recorded heads: `{"ok", "checked", "first_bad"}` where
        `first_bad` is the seq of the first entry whose content, link or position does not match, or the first one
        deleted from the end (null when the chain is intact); a broken chain adds `reason`, `message` and, for
        the end, `expected_head`."""
        factory = int_param(request, "factory", required=True)
        if not factories_for_user(user=request.user).filter(pk=factory).exists():
            raise NotFound("No such factory.")
        return Response(audit_verify(factory_id=factory))
