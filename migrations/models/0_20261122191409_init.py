from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS `users` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `email` VARCHAR(254) NOT NULL UNIQUE,
    `password_hash` VARCHAR(255) NOT NULL,
    `display_name` VARCHAR(100) NOT NULL,
    `role` VARCHAR(16) NOT NULL COMMENT 'USER: USER\nADMIN: ADMIN',
    `created_at` DATETIME(6) NOT NULL
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `tickets` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `title` VARCHAR(200) NOT NULL,
    `description` LONGTEXT NOT NULL,
    `status` VARCHAR(16) NOT NULL COMMENT 'OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nON_HOLD: ON_HOLD\nRESOLVED: RESOLVED\nCLOSED: CLOSED',
    `priority` VARCHAR(16) NOT NULL COMMENT 'LOW: LOW\nNORMAL: NORMAL\nHIGH: HIGH\nURGENT: URGENT',
    `category` VARCHAR(100),
    `created_at` DATETIME(6) NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    `closed_at` DATETIME(6),
    `assignee_id` INT,
    `owner_id` INT NOT NULL,
    CONSTRAINT `fk_tickets_users_e92905f5` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL,
    CONSTRAINT `fk_tickets_users_fa6587ad` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE RESTRICT,
    KEY `idx_tickets_owner_id` (`owner_id`, `id`),
    KEY `idx_tickets_status_id` (`status`, `id`),
    KEY `idx_tickets_assignee_id` (`assignee_id`, `id`),
    KEY `idx_tickets_created_at` (`created_at`)
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `messages` (
    `id` BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `body` LONGTEXT NOT NULL,
    `created_at` DATETIME(6) NOT NULL,
    `author_id` INT NOT NULL,
    `ticket_id` INT NOT NULL,
    CONSTRAINT `fk_messages_users_4677258a` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE RESTRICT,
    CONSTRAINT `fk_messages_tickets_7c1afb0f` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE CASCADE,
    KEY `idx_messages_ticket_id` (`ticket_id`, `id`)
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `configuration` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `registration_open` BOOL NOT NULL,
    `max_open_tickets_per_user` INT NOT NULL,
    `max_message_length` INT NOT NULL,
    `ticket_categories` JSON NOT NULL,
    `version` INT NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    `updated_by_id` INT,
    CONSTRAINT `fk_configur_users_1140e549` FOREIGN KEY (`updated_by_id`) REFERENCES `users` (`id`) ON DELETE SET NULL
) CHARACTER SET utf8mb4 COMMENT='The one row of run-time configuration; `version` grows with each update.';
CREATE TABLE IF NOT EXISTS `log_entries` (
    `id` BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `level` SMALLINT NOT NULL COMMENT 'DEBUG: 10\nINFO: 20\nWARNING: 30\nERROR: 40',
    `event` VARCHAR(64) NOT NULL,
    `message` VARCHAR(500) NOT NULL,
    `ticket_id` INT,
    `created_at` DATETIME(6) NOT NULL,
    `actor_id` INT,
    CONSTRAINT `fk_log_entr_users_d9e4fde4` FOREIGN KEY (`actor_id`) REFERENCES `users` (`id`) ON DELETE SET NULL,
    KEY `idx_log_entries_level_id` (`level`, `id`),
    KEY `idx_log_entries_created_at` (`created_at`)
) CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS `aerich` (
    `id` INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
    `version` VARCHAR(255) NOT NULL,
    `app` VARCHAR(100) NOT NULL,
    `content` JSON NOT NULL
) CHARACTER SET utf8mb4;
-- The configuration row starts with the defaults of
-- ticketing.configuration.service (the SQLite default seeds the same values).
INSERT IGNORE INTO `configuration`
    (`id`, `registration_open`, `max_open_tickets_per_user`, `max_message_length`,
     `ticket_categories`, `version`, `updated_at`, `updated_by_id`)
VALUES (1, 1, 10, 5000, '["General", "Billing", "Technical"]', 1, UTC_TIMESTAMP(6), NULL);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXG1zokgQ/isUn7JV2VRiosl5V1elCUm8VdhSs7u15xWLOFEqOOPCsIm1l/9+MwPIO4"
    "KrBD2+qPRMM8PT89JP98hPfo4mQDdPHkxg8E3uJw+VOSA/AvJjjlcWC09KBVgZ66yiRWow"
    "iTI2saGomAgfFd0ERDQBpmpoC6whSKTQ0nUqRCqpqMGpJ7Kg9t0CMkZTgGesI3//Q8QanI"
    "AXYLqXiyf5UQP6JNBPbULbZnIZLxdM1oH4llWkrY1lFenWHHqVF0s8Q3BVW4OYSqcAAkPB"
    "gN4eGxbtPu2d85juE9k99arYXfTpTMCjYunY97hj2ZPxsixKQ3kgDGWZzwGQiiAFl3TVZE"
    "8/pV14Xzu7uLy4Om9cXJEqrJsryeWr3bQHjK3I4BGH/CsrV7Bi12AYe6CCuaLpUVyvZ4oR"
    "D+xKIYQt6XQYWxfJ8oI7V15kHcApnlFE6xcpUH5q9a/vW/0jUusdbRKRCWBPC9EpqtllFG"
    "8P34Vims/ImMgzxZzlwTmiuB28XYEHuDeD3wDxeibE6ymI18OITzRzoStLmV3nADysd4B4"
    "n52eZsCb1ErEm5UF8TaQnoCzAK05w7pD+qRAFUQwd3WLw5p/GAh9Ph/aTKfJ0c8RbN30Om"
    "KTY1/8JjZoZDFBI9kCjbABVANQkGQFR81wQ0qwNgfxQz6oGTLCxFE9cX/s4/AnDziRoL50"
    "NpYU6IednjAYtnofaXNz0/yuM/xaQ4GW1Jh0GZIehc20ugn3uTO85+gl91USBQYvMvHUYC"
    "169YZfedonxcJIhuhZVia+PdCVuqi9Utfo8cm3j1PBWFGfnhWyUQRKvOFB9hFtComVsaY+"
    "AWxGB0nbucPthz7QFYZxdDg4XuKQ3STDUHCeoSwj4dUd+67UGxEeVMUiVLbJkgmiOTBNZQ"
    "p+EaOefZdDAolORVRDSZMzWjSvzcMSBRJQJk7btKXgkIohbd5gS6ZtvlG9U+L2k/ceh0fP"
    "xKyyzcLIJ60KXhZk+TNJQ6sn9qjdi7s8yX5Nd9jwTJ10nV2wAelrizgX2DLzt2Tr5WrKWU"
    "zBRk8WUs7Wom+PztFUcGdPaKli2kUybazhJEc5HtiVwgEykVomJlJLYSK1KBPx9yyC85AM"
    "/ATiF1Q7CLTTHF3hyzDg47qYHvVaX94F/NyuJN651X02uO5K7RD03hK8CQ30tAskgtJHQc"
    "xLBKlOk6OfI9gR5Y996a4vDAZNzncxgpIo30vdG1LR/jGCRC51PwlE5P4aQYLigErs73JQ"
    "yYWhIUPDy00N6dcv0JSi1O+1unmN2ZU+NznyMYK2fpOzv0fwvnN33+To5wg+9O8EcUjYP/"
    "suh5lUAuAUGQlmSuD6Pp2NTFMyQldAZKsKrCSjf1iBFb/VrcVkQ6sHNSurl8XqLkY+s0fi"
    "GqqOzM2mul9xCzYv2TK7vyaOzuwQ/87Ib0Na64lu+Y26HarrAesP2WRE1a+yEaSlWxu3gG"
    "kkvh+COIrvLTIAGZ0fwDLimMdHXt1THnuGblLYlYgN5XkVwgoMK/Lw5JEBZo9PeNew37ke"
    "8rErQnHAlmwlyIpraBEMQEv6wIkP3a4dUFyXjqoSCG+QQHDhiskg+JBMTiH4jVZcDsEOZu"
    "cKtbsdlQO624h/t7Xp/yUE/lutdn5+WTs9b1zVLy4v61enq80sWpS2q7U7dx0xFD1cHygf"
    "o0lMZCM5fuvWrwK3GwRuqxhH8mzYT7abJcZBCmcop8ce0Klc9hgaFNhzMqIa0KlQXU+E8O"
    "rEwy867Ad3TifssweGVsBjv24Nrls3Ah+zJlQUcy0V8q+DCRwzmQjt0ssfLE0M5tcIPmpT"
    "y1AcACIef1y1VO9fjVRdRwH44QxwCALOQM8ceuQMC76nXgAXuNXv3LcfwKC+/DduSmqa3L"
    "OGZxxQ1Blnx9JPwvm2rd64+i9KuU7IGGCq0fZov2S0ADGnONoI6UCB8TjH6odgH5Mb7Gpx"
    "cm1RLC1oS1I34Ha2O2G//6HXFvpHZ8zfJJU0HGBivgVCeWG4rY6RLYAhW2Zc4DFxsKfeoz"
    "gH5+y01JMgiLkTtXDT2fnAjioXh3L99HRfcHa8IecYhBYXgPxrIImpXnpQOUx5NRVz/3I6"
    "WYJ2BTf/x6MFVYokN7Y0HWvQPKHt/ckXv+xQsNKjEeHAw3GQxtIbhKMRzq6dYwb4NApcXP"
    "ZkzFdHGZKh3s/gTpajDK7txst8oYiIXpXqXhuN8DCrUohreHNkeOVOIu6SO3fRVIDYWPIx"
    "hHlVdpzGknU0lQGpphWdJtPBD6BnT5H5+ikz1R3+HcXf1vb/klKl5IpKya2GWGQrWX8mfK"
    "Vb5ug2fyO0H+4obaQH+28l+g+VEfzc6osdkYjPyYXQ70v9JndxGo5JpRruvHbZWJmKXqQZ"
    "Z9BrdbtRN44ACGM8uJR3dLgKB5ESDZ70bmR5SUcj+R0djcgrOubeCYisAPtUDhDieqbD9P"
    "WUw/T16GH6t0mOlcxX2jbBq7L3yVDvJ8HLlL1Xce7kvU+lmkhraR2Dq2J06zKhvkFVKjLX"
    "AoamzvgYKueUHKcROcWrU73nbp8m9HEKg0mMLCc7ecmh5UNw8nby7jU6qXIg7FQ/QHR383"
    "9UBHEsE0xOXPlUik9Xvc0x2a0lpiL+QZGb2et/eJ1rvA=="
)
