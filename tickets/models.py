from django.conf import settings
from django.db import models
from django.db.models import Q


class Tier(models.IntegerChoices):
    """Support tiers of the seed documents. Code compares against these, never bare numbers."""

    SELF_SERVICE = 0, "Tier 0 - Self-service"
    T1 = 1, "Tier 1 - Service desk"
    T2 = 2, "Tier 2 - Technicians"
    T3 = 3, "Tier 3 - Specialists"
    T4 = 4, "Tier 4 - Vendors"


AGENT_TIERS = (Tier.T1, Tier.T2, Tier.T3)


class Vendor(models.Model):
    """An outside party that takes tier-4 escalations."""

    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TierMembership(models.Model):
    """An agent belongs to one or more of tiers 1-3 and works their queues."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_memberships")
    tier = models.PositiveSmallIntegerField(choices=[(t.value, t.label) for t in AGENT_TIERS])

    class Meta:
        ordering = ["tier"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tier"], name="tier_membership_unique"),
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="tier_membership_tier_1_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {Tier(self.tier).label}"


class VendorContact(models.Model):
    """Links a user account to the vendor they speak for; they see only that vendor's tickets."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_contact")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contacts")

    def __str__(self) -> str:
        return f"{self.user} for {self.vendor}"
