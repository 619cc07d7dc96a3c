"""Emails get one identity: the key column `email_key` replaces the unique index on `email`.

MariaDB's collation called accented variants of an email the same (the unique
index and log-in's look-up), while throttling counted each spelling apart.
From here on `users/emails.py` computes the key (NFKC, case folding, NFKC,
SHA-256) and the unique index is on it.

Existing rows get their key here, in Python (SQL has no NFKC). Emails that
the old rules kept apart may now have one key (a full-width address and its
plain form): the oldest account keeps the key, and each later one gets a key
no email produces (`duplicate:<kept id>:<id>`, where real keys are 64 hex
digits), so that nothing is merged and no one is logged into another's
account; the migration names them in a warning for an operator to settle.
"""

import hashlib
import logging
import unicodedata

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True
BATCH = 1000
logger = logging.getLogger("ticketing.migrate")


def email_key(email: str) -> str:
    # users/emails.email_key as of this migration, copied: a migration keeps
    # doing what it did when it shipped, whatever the code does later.
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    canonical = unicodedata.normalize("NFKC", folded)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _has_key_column(db: BaseDBAsyncClient) -> bool:
    rows = await db.execute_query_dict(
        "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'users' AND COLUMN_NAME = 'email_key'"
    )
    return bool(rows)


async def upgrade(db: BaseDBAsyncClient) -> str:
    # MariaDB commits each ALTER by itself: the column is added only if a
    # failed run did not already add it, so that running again goes on.
    if not await _has_key_column(db):
        await db.execute_script("ALTER TABLE `users` ADD `email_key` VARCHAR(64) NULL;")
    owners: dict[str, int] = {}
    updates: list[list[object]] = []
    for row in await db.execute_query_dict("SELECT `id`, `email` FROM `users` ORDER BY `id`"):
        key = email_key(row["email"])
        kept = owners.setdefault(key, row["id"])
        if kept != row["id"]:
            logger.warning(
                "Users %s and %s have emails that are now the same identity; user %s keeps "
                "it and user %s can no longer log in with that email until it is changed.",
                kept,
                row["id"],
                kept,
                row["id"],
            )
            key = f"duplicate:{kept}:{row['id']}"
        updates.append([key, row["id"]])
    for start in range(0, len(updates), BATCH):
        await db.execute_many(
            "UPDATE `users` SET `email_key` = %s WHERE `id` = %s", updates[start : start + BATCH]
        )
    return """
        ALTER TABLE `users` MODIFY `email_key` VARCHAR(64) NOT NULL;
        ALTER TABLE `users` ADD UNIQUE INDEX `email_key` (`email_key`);
        ALTER TABLE `users` DROP INDEX `email`;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE `users` DROP INDEX `email_key`;
        ALTER TABLE `users` DROP COLUMN `email_key`;
        ALTER TABLE `users` ADD UNIQUE INDEX `email` (`email`);"""


MODELS_STATE = (
    "eJztXG1z2jgQ/isef0pn0gwhgeS4m5uBxEm4gt0B0nZ63LjCKOCJkagtmjC9/PeTZBu/Gz"
    "sFBzh/AbzetaRnV9K+yPwUZ3gMDevk3oKm2BB+igjMIP0RoB8LIpjPPSojEDAyOOOCcnAK"
    "GFnEBBqhxAdgWJCSxtDSTH1OdIwoFS0MgxGxRhl1NPFIC6R/X0CV4AkkU96Rv/+hZB2N4T"
    "O03Mv5o/qgQ2Mc6Kc+Zm1zukqWc05rI3LDGVlrI1XDxmKGPOb5kkwxWnHriDDqBCJoAgLZ"
    "44m5YN1nvXOG6Y7I7qnHYnfRJzOGD2BhEN9wR6pHE1VVVgZqXxqoqpgDIA0jBi7tqsVHP2"
    "FdeF89Pb84vzyrn19SFt7NFeXixW7aA8YW5PDIA/GF3wcE2BwcYw9UOAO6EcX1agrMeGBX"
    "AiFsaafD2LpIpoHrEjx0PYsqAt4ZeFYNiCZkyjCtnaeA+anZu7pr9o4o1zvWJKZTwJ4Ysn"
    "Orat9jiIcQVh/hMjfKrtBmkH5bMw7gXM8Ccz0Z5XoE5DmwrCdsjtUpsKZ5gI4IHqRZ1zKZ"
    "dS3FrGthxMe6NTfAUuXXOQAPyx0g3qeVSga8KVci3vxeEG8TGwk4S2gx41i3aZ8A0mAEc1"
    "e2OKzF+77UE/OhzWUaAvscouZ1ty03BP4lvkYH9SwqqCdroB5WgGZCBpIKSFQN1/QO0Wcw"
    "3uSDkiEljB3RE/fHPpo/HeBYQcbS2VVSoB+0u1J/0Ox+ZM3NLOu7wfFrDiR2p8qpyxD1KK"
    "ym1UOEz+3BncAuha+KLHF4sUUmJm/R4xt8FVmfwIJgFeEnFYx9G6BLdVF7YR7ow6PPXWKE"
    "EdAenwDdKAJ3PPOg+4g+QVTLRNceIbGiRtJynnDzoQcNwDGOmoPjjA/4QzKYgjOGXbGEF9"
    "f2XapnER5UxSK0a5MlE0QzaFlgAn8Ro679lEMCiU1FXMVJkzN6a1adhSkAUVDGTtuspaBJ"
    "xcTGnrElR8c+q95qfPxT9IYj4ieqVtUOduknY4XPc7r8WbSh1Yi9CPrZXZ5Uv6RrNiIXp1"
    "3nF9wgfW1R54IsrPwt2XK5mnIWU/iqkYWEs7Xo26NzNBXc2RNaKhMaRSY0iE6SHOV4YFcC"
    "BxiJVDNFItWUSKQajUT8PYvgPKCGnxD4BcUOAu00R1f6Mgj4uC6mR93ml3cBP7ejyLcuu0"
    "8HVx2lFYLeW4JfEwZ60gUGgspHSc4bCDKZhsA+h6gtqx97ym1P6vcbgu9iiBRZvVM615TR"
    "/jFElK50PkmU5P4aIopin1Hs790IJeemjk2dJGQE1yvSL1+gKmWl12128iqzo3xuCPRjiG"
    "z5hmB/D9Fd+/auIbDPIbrv3UrygEb//Hs31KRRACfYzJW49cu8SjU7FtAVkNkqEyvJ6B9W"
    "YsWv9cV8/EqtByVLre+K1l2MfGqP5DU0A1uvm+p+wQ3ofMeW2f1VcXRmh+LvjPFtSGp9oL"
    "v7St1MqOsB60/ZZETVL/IqSHdubdwAppH8fgjiKL432ITUOj/AZcQxj8+8uodp9gzdpLQr"
    "JZvgaZXCCpgVHTwdMiR8+DTuGvTaVwMxdkUoDtgdWwmy4hpaBAPQ0j4I8n2nYycU15Wjyg"
    "LCGxQQXLhiKgg+JJNLCH6lFVdDsJPZuVLtbkfVgOwm8t8tffJ/SYH/Vq2enV1UK2f1y9r5"
    "xUXtsrLazKK30na1Vvu2LYeyh+sT5SM8jslsJOdvXf4ycfuKxG2Z40ieDfsZ7WbJcdCbU5"
    "zTYw/IlC57TBgU2HMyohqQKVFdHwiR1YmHX3TYD+6cTthnD5hWwGO/avavmteSGLMmlCHm"
    "2lDIvw4mxJjJgdA2vfz+0iJwdoXRgz5ZmMABIOLxx7Glev9ahHVdCCAOplDACAomfhLwg2"
    "Au0HvmBQiBR/0ufPsBTebLfxMmlNMSnnQyFSDQpoKdSz8J19s2+uDylZ/dOiFjwonO2mP9"
    "UvEcxpziaGFsQIDicY6VD8E+og/Y1uLk6qLYsKClKJ2A29lqh/3++25L6h2dcn+TMukkEI"
    "n5FgjwzHFbHSObQ1NdWHGJx0RjT31GcQ7OaWWnJ0EQcydr4Zaz84EdFS4O5Vqlsi84O96Q"
    "cwxCj0tA/tVX5FQvPSgcDnl1jQj/CgZdgrYFt/jHwwJpDEnB7hEF8CSw8504e7yrD1+X/x"
    "SLX5sYoukpi3B24jgY67IHhFMWztaeY5r4JApcgfZkYpTnHZKh3s8MUJbzDq7uRst8+YqI"
    "XFkPX5uy8DAr64xrguuIeeWuNG4zwO7giYSIuRRjourVveO0UNrAExVSNr3oWpoBf0Ajex"
    "3N10+Vi27xnRV/W5t/b6Ws2xVVt1uZWGQrWX9wfCW7yylw8Vpq3d+y2JKd/r9R2GssQ/S5"
    "2ZPbMiWf0Qup11N6DeG8Ek5cpSrurHpRX6mKXaQpp99tdjpRN44CiGI8uJR/8nAFDqJuuu"
    "3/8Zh5xySyAuwTOUCIa5lO3NdSTtzXoifu36aCtmO+0qYDvLLEnwz1fgZ4mUr8Gsld4feJ"
    "lBNpbVjH4SojunXlUp9R7VQw14Smrk3FmFDOuXOcFsgBj6f8z8F9mtDHKRFMYmY52clLTi"
    "0fgpO3lT9oY5MqB8IO+wGiu52XVjEisZFgcnXLJ1J8TettztJurDAV8Q+K3Mxe/gN8M+zx"
)
