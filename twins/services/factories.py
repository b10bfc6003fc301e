"""Factories and memberships (who may do what where)."""
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from collaboration import events
from collaboration.audit import audit_append

from ..errors import Forbidden, Invalid, NotFound
from ..models import Factory, Membership, Role
from .common import finite_number, require_role


def factory_create(*, name, slug=None, description="", floor_width_m=60.0, floor_depth_m=40.0, by) -> Factory:
    if not getattr(by, "is_staff", False):
        raise Forbidden("Only staff can create factories.")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name is required.", errors={"name": ["This field is required."]})
    slug = slugify(slug or name)
    if not slug:
        raise Invalid("slug must contain letters or digits.", errors={"slug": ["Invalid slug."]})
    if Factory.objects.filter(slug=slug).exists():
        raise Invalid(f"A factory with slug '{slug}' already exists.", errors={"slug": ["Already taken."]})
    with transaction.atomic():
        factory = Factory.objects.create(
            name=name.strip(), slug=slug, description=description or "",
            floor_width_m=finite_number(floor_width_m, field="floor_width_m", minimum=1, maximum=10_000),
            floor_depth_m=finite_number(floor_depth_m, field="floor_depth_m", minimum=1, maximum=10_000),
        )
        audit_append(factory_id=factory.id, actor=by, action="factory.create", object_type="factory", object_id=factory.id,
                     data={"name": factory.name, "slug": factory.slug})
    return factory


def factory_update(*, factory: Factory, changes: dict, by) -> Factory:
    allowed = {"name", "description", "floor_width_m", "floor_depth_m"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"Unknown or read-only field(s): {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="change factory settings")
        for field in ("floor_width_m", "floor_depth_m"):
            if field in changes:
                setattr(factory, field, finite_number(changes[field], field=field, minimum=1, maximum=10_000))
        if "name" in changes:
            if not isinstance(changes["name"], str) or not changes["name"].strip():
                raise Invalid("name is required.", errors={"name": ["This field is required."]})
            factory.name = changes["name"].strip()
        if "description" in changes:
            factory.description = str(changes["description"] or "")
        factory.save()
        audit_append(factory_id=factory.id, actor=by, action="factory.update", object_type="factory", object_id=factory.id, data=changes)
    return factory


def membership_set(*, factory: Factory, username: str, role: str, by, password: str | None = None, create_user: bool = False) -> Membership:
    """Give `username` the `role` in `factory` (owners and staff; `by=None` for management commands)."""
    if role not in Role.values:
        raise Invalid(f"role must be one of {', '.join(Role.values)}.", errors={"role": ["Invalid role."]})
    User = get_user_model()
    with transaction.atomic():
        if by is not None:
            require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="manage members")
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                raise NotFound(f"No user named '{username}'.", errors={"username": ["No such user."]})
            user = User.objects.create_user(username=username, password=password)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        membership, created = Membership.objects.update_or_create(factory=factory, user=user, defaults={"role": role})
        audit_append(factory_id=factory.id, actor=by or "system", action="member.set", object_type="member", object_id=user.username,
                     data={"username": user.username, "role": role, "created": created})
    return membership


def membership_remove(*, factory: Factory, username: str, by) -> None:
    with transaction.atomic():
        require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="manage members")
        membership = Membership.objects.filter(factory=factory, user__username=username).select_related("user").first()
        if membership is None:
            raise NotFound(f"'{username}' is not a member of {factory.name}.")
        user_id = membership.user_id
        membership.delete()
        audit_append(factory_id=factory.id, actor=by, action="member.remove", object_type="member", object_id=username, data={"username": username})
        events.publish_access_revoked(user_id=user_id, factory_id=factory.id)
