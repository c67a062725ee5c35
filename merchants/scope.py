"""The tenant rule, in one place: what a merchant user may see.

A company admin sees the whole company; a store manager or staff member only their store.
Every merchant read (history, aggregates, exports, payouts) starts from a Scope, so no page,
export or statement can cross a company. A Scope is a value: an export keeps the one it was
asked in, whatever later happens to the user who asked.
"""

from dataclasses import dataclass

from merchants.models import User


@dataclass(frozen=True)
class Scope:
    company_id: int
    store_id: int | None = None
    company_wide: bool = True

    @classmethod
    def of(cls, user: User) -> "Scope":
        if user.role == User.Role.COMPANY_ADMIN:
            return cls(company_id=user.company_id)
        return cls(company_id=user.company_id, store_id=user.store_id, company_wide=False)

    def filter(self, queryset, store_field: str = "store_id"):
        """`queryset` (of rows with a company and a store) narrowed to this scope."""
        queryset = queryset.filter(company_id=self.company_id)
        if not self.company_wide:
            queryset = queryset.filter(**{store_field: self.store_id})
        return queryset
