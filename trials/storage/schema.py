"""Database tables (SQLAlchemy Core). Alembic migrations in ``trials/migrations`` create them.

Ids are never reused (AUTOINCREMENT on SQLite), so a decision or an import that names an
arm or a trial cannot later point at a different one. Money is stored as integer
micro-units (1 CNY = 1,000,000), as ad platforms' APIs do, so sums are exact on SQLite and
PostgreSQL alike. Every table that users write to records who wrote it and when; every
trial belongs to a workspace, and users are members of workspaces with a role
(``users``, ``memberships``; the account log ``account_events`` records who changed them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "DEFAULT_WORKSPACE_ID",
    "MICROS",
    "account_events",
    "amendments",
    "arms",
    "daily_results",
    "decisions",
    "import_batches",
    "memberships",
    "metadata",
    "orders",
    "replaced_orders",
    "replaced_results",
    "rounds",
    "scale_plans",
    "trial_priors",
    "trials",
    "users",
    "utm_rules",
    "workspaces",
]

MICROS = 1_000_000
DEFAULT_WORKSPACE_ID = 1

# Named constraints so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    # The name folded for comparison (trials.domain.accounts.name_key): unique, so two
    # workspaces never differ only in case.
    Column("name_key", String(240), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Null for the Default workspace, which the schema itself creates.
    Column("created_by", String(120), nullable=True),
    sqlite_autoincrement=True,
)
# A unique index (not a constraint): migration 0005 adds it to an existing table.
Index("ix_workspaces_name_key", workspaces.c.name_key, unique=True)

# Accounts. ``name`` is what writes record as their author (never reused: accounts are
# disabled, not deleted). ``password_hash`` is an Argon2id string (argon2-cffi), null for
# an account that signs in only through the identity provider (by ``email``).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("name_key", String(240), nullable=False, unique=True),
    Column("email", String(254), nullable=True, unique=True),  # lower case
    Column("password_hash", String(255), nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False),  # a site administrator
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("disabled_by", String(120), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120), nullable=False),
    sqlite_autoincrement=True,
)

# A user's role in a workspace: viewer, editor or admin (trials.domain.accounts.Role).
memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    ),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120), nullable=False),
    UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_user"),
    CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="known_role"),
    sqlite_autoincrement=True,
)

# The account log: every change to accounts, workspaces and memberships, append-only.
account_events = Table(
    "account_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("action", String(32), nullable=False),
    Column("user_name", String(120), nullable=True),
    Column("workspace_name", String(120), nullable=True),
    Column("details", JSON, nullable=False),
    sqlite_autoincrement=True,
)

trials = Table(
    "trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("name", String(120), nullable=False),
    Column("hypothesis", Text, nullable=False, default=""),
    Column("primary_metric", String(32), nullable=False),
    Column("break_even_roas", Float, nullable=False),
    Column("gross_margin", Float, nullable=True),
    Column("currency", String(8), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("budget_micros", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decision_rule", JSON, nullable=False),
    Column("is_demo", Boolean, nullable=False, default=False),
    # How an order claimed by several arms is credited: last_touch or split.
    Column("attribution_rule", String(16), nullable=False, server_default="last_touch"),
    # Which conversions and revenue the models read: auto (own orders once they give a
    # conversion within the trial's dates), channel or orders.
    Column("results_source", String(16), nullable=False, server_default="auto"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120), nullable=False),
    UniqueConstraint("workspace_id", "name", name="uq_trials_workspace_name"),
    CheckConstraint("end_date >= start_date", name="dates_in_order"),
    CheckConstraint("budget_micros >= 0", name="budget_not_negative"),
    CheckConstraint("break_even_roas > 0", name="break_even_positive"),
    sqlite_autoincrement=True,
)

arms = Table(
    "arms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("position", Integer, nullable=False),
    Column("channel", String(80), nullable=False),
    Column("creative", String(120), nullable=False),
    Column("budget_share", Float, nullable=True),
    Column("is_control", Boolean, nullable=False, default=False),
    # The rounds the arm runs in: from first_round to last_round (None: still running).
    Column("first_round", Integer, nullable=False, server_default="1"),
    Column("last_round", Integer, nullable=True),
    UniqueConstraint("trial_id", "channel", "creative", name="uq_arms_trial_channel_creative"),
    sqlite_autoincrement=True,
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("kind", String(16), nullable=False),  # daily, orders, manual, demo
    Column("file_name", String(255), nullable=True),
    Column("digest", String(64), nullable=True),  # sha256 of the file's bytes
    Column("row_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # committed, undone
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("undone_at", DateTime(timezone=True), nullable=True),
    Column("undone_by", String(120), nullable=True),
    # What the batch did (rows added, replaced, removed; arms it added), for undo and audit.
    Column("details", JSON, nullable=True),
    sqlite_autoincrement=True,
)

daily_results = Table(
    "daily_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
    Column("arm_id", Integer, ForeignKey("arms.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("impressions", BigInteger, nullable=False),
    Column("clicks", BigInteger, nullable=False),
    Column("conversions", BigInteger, nullable=False),
    Column("spend_micros", BigInteger, nullable=False),
    Column("revenue_micros", BigInteger, nullable=False),
    Column(
        "import_batch_id",
        Integer,
        ForeignKey("import_batches.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    # A breakdown of the arm-day (customer group, region, device, placement); "" for none.
    # The arm-level view sums an arm-day's segments (``trials.domain.merge_segments``).
    Column("segment", String(120), nullable=False, server_default=""),
    UniqueConstraint(
        "trial_id", "arm_id", "day", "source", "segment", name="uq_daily_results_arm_day_segment"
    ),
    CheckConstraint(
        "impressions >= 0 AND clicks >= 0 AND conversions >= 0 "
        "AND spend_micros >= 0 AND revenue_micros >= 0",
        name="not_negative",
    ),
    CheckConstraint("clicks <= impressions", name="clicks_within_impressions"),
    sqlite_autoincrement=True,
)


def _result_columns() -> list[Column]:
    return [
        Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
        Column("arm_id", Integer, ForeignKey("arms.id", ondelete="CASCADE"), nullable=False),
        Column("day", Date, nullable=False),
        Column("source", String(16), nullable=False),
        Column("impressions", BigInteger, nullable=False),
        Column("clicks", BigInteger, nullable=False),
        Column("conversions", BigInteger, nullable=False),
        Column("spend_micros", BigInteger, nullable=False),
        Column("revenue_micros", BigInteger, nullable=False),
        Column("segment", String(120), nullable=False, server_default=""),
    ]


def _set_aside(name: str, columns: list[Column]) -> Table:
    """A table of rows an import replaced or a manual edit removed, kept for undo."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        *columns,
        Column(
            "import_batch_id",
            Integer,
            ForeignKey("import_batches.id", ondelete="SET NULL"),
            nullable=True,
        ),
        Column(
            "replaced_by_batch_id",
            Integer,
            ForeignKey("import_batches.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sqlite_autoincrement=True,
    )


replaced_results = _set_aside("replaced_results", _result_columns())


def _order_columns() -> list[Column]:
    return [
        Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
        Column("order_id", String(120), nullable=False),
        # One order may arrive once per touch (UTM set or arm); ``touch`` tells them apart.
        Column("touch", String(700), nullable=False),
        Column("ordered_at", DateTime(timezone=False), nullable=False),
        Column("amount_micros", BigInteger, nullable=False),
        Column("status", String(16), nullable=False),  # paid, cancelled, refunded
        Column("utm_source", String(255), nullable=False, default=""),
        Column("utm_medium", String(255), nullable=False, default=""),
        Column("utm_campaign", String(255), nullable=False, default=""),
        Column("utm_content", String(255), nullable=False, default=""),
        Column("channel", String(255), nullable=False, default=""),  # arm columns, if any
        Column("creative", String(255), nullable=False, default=""),
        Column("row_number", Integer, nullable=False),
    ]


# The shop's own orders, one row per order and touch, as imported (never pre-attributed:
# attribution is computed on read, so changing the rule or the UTM mapping re-credits).
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    *_order_columns(),
    Column(
        "import_batch_id",
        Integer,
        ForeignKey("import_batches.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    UniqueConstraint("trial_id", "order_id", "touch", name="uq_orders_trial_order_touch"),
    CheckConstraint("amount_micros >= 0", name="amount_not_negative"),
    sqlite_autoincrement=True,
)

replaced_orders = _set_aside("replaced_orders", _order_columns())

# Which arm an order's UTM values belong to. A blank value matches anything; the most
# specific matching rule wins.
utm_rules = Table(
    "utm_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("utm_source", String(255), nullable=False),
    Column("utm_medium", String(255), nullable=False),
    Column("utm_campaign", String(255), nullable=False),
    Column("utm_content", String(255), nullable=False),
    Column("arm_id", Integer, ForeignKey("arms.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    UniqueConstraint(
        "trial_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        name="uq_utm_rules_trial_values",
    ),
    sqlite_autoincrement=True,
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("summary", JSON, nullable=False),  # arms to scale / stop / fix, budget change
    Column("note", Text, nullable=False, default=""),
    Column("snapshot", JSON, nullable=False),  # frozen evidence: posteriors, digest, settings
    Column("corrects_id", Integer, ForeignKey("decisions.id", ondelete="RESTRICT"), nullable=True),
    sqlite_autoincrement=True,
)

# Changes to a trial's pre-registered plan (decision rule, primary metric, arms, planned
# shares) made once it had data: append-only, like the decision log.
amendments = Table(
    "amendments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("before", JSON, nullable=False),  # only the changed fields, e.g. decision_rule.min_days
    Column("after", JSON, nullable=False),
    sqlite_autoincrement=True,
)

# A trial's rounds, once it has more than one (``trials.domain.rounds``). Round 1 is
# written when round 2 starts. The current round's dates, budget and rule are the trial's
# own (``trials``), copied here when the next round starts; the arms of each round are
# the arms' first_round/last_round.
rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("number", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("budget_micros", BigInteger, nullable=False),
    Column("decision_rule", JSON, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("replaced", JSON, nullable=False),  # [[old arm id, new arm id], ...]
    Column("carry_prior", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    UniqueConstraint("trial_id", "number", name="uq_rounds_trial_number"),
    CheckConstraint("end_date >= start_date", name="dates_in_order"),
    CheckConstraint("number >= 1", name="number_positive"),
    sqlite_autoincrement=True,
)

# Whether a trial's analysis uses priors learned from past trials, and channels' priors set
# by hand: every change is a new row (who and when), the latest one is the trial's setting.
trial_priors = Table(
    "trial_priors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("use_learned", Boolean, nullable=False),
    Column("overrides", JSON, nullable=False),  # [{channel, stage, mean, strength}]
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    sqlite_autoincrement=True,
)

# Plans to step a winning arm's daily spend up, each with its stop condition written down
# first (``trials.domain.scale_plans``). Written once: the settings never change (a new
# plan replaces one), and ending a plan fills in who, when and why once. Triggers
# (migration 0008) refuse anything else, and every DELETE.
scale_plans = Table(
    "scale_plans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column(
        "arm_id", Integer, ForeignKey("arms.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("base_daily_spend_micros", BigInteger, nullable=False),
    Column("step", Float, nullable=False),  # 0.5: each step spends 50 % more a day
    Column("step_days", Integer, nullable=False),
    Column("stop_probability", Float, nullable=False),
    Column("break_even_roas", Float, nullable=False),  # the trial's, when written
    Column("start_date", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column(
        "replaces_id", Integer, ForeignKey("scale_plans.id", ondelete="RESTRICT"), nullable=True
    ),
    Column("reason", Text, nullable=False, default=""),  # why it replaced the plan before
    Column("status", String(16), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("ended_by", String(120), nullable=True),
    Column("end_reason", Text, nullable=False, default=""),
    CheckConstraint("base_daily_spend_micros > 0", name="base_spend_positive"),
    CheckConstraint("step > 0", name="step_positive"),
    CheckConstraint("step_days > 0", name="step_days_positive"),
    CheckConstraint(
        "stop_probability > 0 AND stop_probability < 1", name="stop_probability_a_probability"
    ),
    CheckConstraint("break_even_roas > 0", name="plan_break_even_positive"),
    CheckConstraint(
        "status IN ('active', 'stopped', 'finished', 'replaced')", name="plan_status_known"
    ),
    sqlite_autoincrement=True,
)
