"""Merchant-side rules that span models; the audit trail lives here."""

from merchants.models import AuditLog


def audit_log(*, action: str, actor=None, obj=None, company=None, actor_label: str = "", **data):
    """Record who did what (dotted action names, e.g. payments.payment.cancelled)."""
    return AuditLog.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label
        or (str(actor.get_username()) if getattr(actor, "pk", None) else ""),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        company=company,
        data=data,
    )
