"""An Expert's name in parts: `experts.last_name`, `first_name`, `patronymic` (issue 14).

The call script greeted with a guess at a single `full_name` («Меня зовут Сергеевна» when a name
was stored as «Мария Сергеевна Орлова»). The parts are stored now; `full_name` stays as the
display name, «Фамилия Имя Отчество», rewritten from the parts whenever they are saved.

Existing rows are split in «Фамилия Имя Отчество» order by the call scripts' rules: one word is
the first name, four and more keep the tail as the patronymic («Гейдар оглы»). A name stored in
another order is split wrongly and is put right in the user form (Администрирование → Пользователи).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The parts are NOT NULL with the default "": every row has them at once, then gets its own below.
_EXPERTS = sa.table("experts", sa.column("id", sa.Integer()), sa.column("full_name", sa.String()),
                    sa.column("last_name", sa.String()), sa.column("first_name", sa.String()),
                    sa.column("patronymic", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("last_name", sa.String(length=255), server_default="", nullable=False))
        batch.add_column(sa.Column("first_name", sa.String(length=255), server_default="", nullable=False))
        batch.add_column(sa.Column("patronymic", sa.String(length=255), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_EXPERTS.c.id, _EXPERTS.c.full_name)).all()
    for expert_id, full_name in rows:
        connection.execute(_EXPERTS.update().where(_EXPERTS.c.id == expert_id).values(**split(full_name or "")))


def split(full_name: str) -> dict[str, str | None]:
    """The parts of «Фамилия Имя Отчество» and the display name made of them (a copy, frozen with
    this migration, of service/db/records.py ExpertName.parse and .full_name)."""
    words = full_name.split()
    if len(words) < 2:
        last, first, patronymic = "", " ".join(words), None
    else:
        last, first, patronymic = words[0], words[1], " ".join(words[2:]) or None
    display = " ".join(part for part in (last, first, patronymic) if part)
    return {"last_name": last, "first_name": first, "patronymic": patronymic, "full_name": display}


def downgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.drop_column("patronymic")
        batch.drop_column("first_name")
        batch.drop_column("last_name")
