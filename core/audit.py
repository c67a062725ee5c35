"""The audit trail: who did what, when and why (pretix's log_action, dotted action names)."""

from core.models import AuditLog


def audit_log(*, action: str, actor=None, obj=None, company=None, actor_label: str = "", **data):
    """Record one state change, e.g. action="payments.payment.cancelled"."""
    signed_in = getattr(actor, "pk", None) is not None
    return AuditLog.objects.create(
        action=action,
        actor=actor if signed_in else None,
        actor_label=actor_label or (str(actor.get_username()) if signed_in else ""),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        company=company,
        data=data,
    )
