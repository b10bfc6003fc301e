"""Factories and memberships (who may do what where)."""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from collaboration import events
from collaboration.audit import audit_append

from ..errors import Conflict, Forbidden, Invalid, NotFound
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
    allowed = {"name", "description", "floor_width_m", "floor_depth_m", "forecast_every_s"}
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
        if "forecast_every_s" in changes:
            factory.forecast_every_s = finite_number(changes["forecast_every_s"], field="forecast_every_s", minimum=60,
                                                     maximum=7 * 24 * 3600, allow_none=True, integer=True)
        factory.save()
        audit_append(factory_id=factory.id, actor=by, action="factory.update", object_type="factory", object_id=factory.id, data=changes)
    return factory


def _clean_username(username) -> str:
    """Django's own rules for a username (letters, digits and @ . + - _, at most 150): the same for the API,
    the admin and `add_member`, so that no interface can create a name the others could not."""
    User = get_user_model()
    field = User._meta.get_field(User.USERNAME_FIELD)
    if not isinstance(username, str) or not username:
        raise Invalid("username is required.", errors={"username": ["This field is required."]})
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise Invalid(f"Invalid username: {' '.join(exc.messages)}", errors={"username": exc.messages}) from None
    return username


def _keep_an_owner(*, factory: Factory, membership: Membership, new_role: str | None) -> None:
    """Refuse the change that would leave a factory without an owner (a demotion or removal of the last one).
    Called with the factory row locked, so that two owners stepping down at once cannot both succeed."""
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    if not Membership.objects.filter(factory=factory, role=Role.OWNER).exclude(pk=membership.pk).exists():
        raise Conflict(f"{factory.name} needs at least one owner: make someone else owner first.")


def membership_set(*, factory: Factory, username: str, role: str, by, password: str | None = None, create_user: bool = False) -> Membership | None:
    """Give `username` the `role` in `factory` (owners and staff; `by=None` for management commands).

    Without `create_user`, a name with no account changes nothing and returns None; interfaces answer it as
    they answer a name that exists, so that owners cannot learn which accounts exist elsewhere."""
    if role not in Role.values:
        raise Invalid(f"role must be one of {', '.join(Role.values)}.", errors={"role": ["Invalid role."]})
    username = _clean_username(username)
    User = get_user_model()
    with transaction.atomic():
        if by is not None:
            require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="manage members")
        Factory.objects.select_for_update().filter(pk=factory.pk).values_list("id").first()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                return None
            user = User.objects.create_user(username=username, password=password)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        current = Membership.objects.filter(factory=factory, user=user).first()
        if current is not None:
            _keep_an_owner(factory=factory, membership=current, new_role=role)
        membership, created = Membership.objects.update_or_create(factory=factory, user=user, defaults={"role": role})
        audit_append(factory_id=factory.id, actor=by or "system", action="member.set", object_type="member", object_id=user.username,
                     data={"username": user.username, "role": role, "created": created})
    return membership


def membership_remove(*, factory: Factory, username: str, by) -> None:
    with transaction.atomic():
        require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="manage members")
        Factory.objects.select_for_update().filter(pk=factory.pk).values_list("id").first()
        membership = Membership.objects.filter(factory=factory, user__username=username).select_related("user").first()
        if membership is None:
            raise NotFound(f"'{username}' is not a member of {factory.name}.")
        _keep_an_owner(factory=factory, membership=membership, new_role=None)
        user_id = membership.user_id
        membership.delete()
        audit_append(factory_id=factory.id, actor=by, action="member.remove", object_type="member", object_id=username, data={"username": username})
        events.publish_access_revoked(user_id=user_id, factory_id=factory.id)
