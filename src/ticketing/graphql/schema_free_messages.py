"""Validation and coercion messages that name only what the client wrote.

graphql-core's messages describe the schema: "Cannot query field 'x' on type
'Ticket'" names a type the document may never have written, "Argument
'Mutation.createTicket(input:)' of type 'CreateTicketInput!' is required" names
an argument and its type, "Int cannot represent …" an argument's type. With
introspection off, each would hand out a piece of the schema per guess.

Every form of graphql-core 3.3 (its validation rules, variable and argument
coercion, its scalars and enums) and of strawberry (its OneOf and Maybe rules,
its scalars) that names something of the schema is recognised here, by a
regular expression over the whole message, and rewritten into a message that
keeps only what the document or the variables wrote: field, argument,
variable and fragment names, values, paths into the variables. Forms that
name only what the client wrote (unknown types, unused variables, duplicate
names…) are left alone. tests/graphql/test_schema_free_messages.py makes
graphql-core and strawberry produce each form, so a reworded message after an
upgrade fails a test; until then `unwritten_names.py` keeps it from leaking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = r"[_A-Za-z][_0-9A-Za-z]*"
TYPE = r"'[^']*'"  # a type as graphql-core prints it: 'Ticket', '[TicketStatus!]!'
VALUE = r"(?P<value>.*)"  # a value as the client wrote it (literal or variable)
INVALID = r"Value \g<value> is not valid here."


@dataclass(frozen=True, slots=True)
class Form:
    pattern: re.Pattern[str]
    generic: str  # a template for re.Match.expand: only groups the client wrote


def _form(pattern: str, generic: str) -> Form:
    return Form(re.compile(pattern, re.DOTALL), generic)


FORMS = (
    # validation: FieldsOnCorrectTypeRule, KnownArgumentNamesRule, ScalarLeafsRule
    _form(
        rf"Cannot query field '(?P<field>{NAME})' on type {TYPE}\.",
        r"Cannot query field '\g<field>' here.",
    ),
    _form(
        rf"Unknown argument '(?P<argument>{NAME})' on field '{NAME}\.(?P<field>{NAME})'\.",
        r"Unknown argument '\g<argument>' on field '\g<field>'.",
    ),
    _form(
        rf"Field '(?P<field>{NAME})' must not have a selection"
        rf" since type {TYPE} has no subfields\.",
        r"Field '\g<field>' must not have a selection.",
    ),
    _form(
        rf"Field '(?P<field>{NAME})' of type {TYPE} must have a selection of subfields\."
        r"(?: Did you mean .*\?)?",
        r"Field '\g<field>' must have a selection of subfields.",
    ),
    _form(
        rf"Field '(?P<field>{NAME})' of type {TYPE} must have at least one field selected\.",
        r"Field '\g<field>' must have at least one field selected.",
    ),
    # ProvidedRequiredArgumentsRule: the missing argument is not in the document
    _form(
        rf"Argument '(?:{NAME}\.)?(?P<field>{NAME})\({NAME}:\)' of type {TYPE} is required,"
        r" but it was not provided\.",
        r"Field '\g<field>' is missing a required argument.",
    ),
    _form(
        rf"Argument '@(?P<directive>{NAME})\({NAME}:\)' of type {TYPE} is required,"
        r" but it was not provided\.",
        r"Directive '@\g<directive>' is missing a required argument.",
    ),
    _form(
        rf"Fragment '(?P<fragment>{NAME})' argument '{NAME}' of type {TYPE} is required,"
        r" but it was not provided\.",
        r"Fragment '\g<fragment>' is missing a required argument.",
    ),
    # PossibleFragmentSpreadsRule: the type of the selection is not in the document
    _form(
        rf"Fragment cannot be spread here as objects of type {TYPE}"
        rf" can never be of type '(?P<type>[^']*)'\.",
        r"Fragment on '\g<type>' cannot be spread here.",
    ),
    _form(
        rf"Fragment '(?P<fragment>{NAME})' cannot be spread here as objects of type {TYPE}"
        rf" can never be of type {TYPE}\.",
        r"Fragment '\g<fragment>' cannot be spread here.",
    ),
    # VariablesInAllowedPositionRule: the variable's type is in the document, the position's not
    _form(
        rf"Variable '\$(?P<variable>{NAME})' of type '(?P<type>[^']*)' used"
        rf" in position expecting type {TYPE}\.",
        r"Variable '$\g<variable>' of type '\g<type>' cannot be used in this position.",
    ),
    _form(
        rf"Variable '\$(?P<variable>{NAME})' is of type {TYPE} but must be non-nullable"
        rf" to be used for OneOf Input Object {TYPE}\.",
        r"Variable '$\g<variable>' must be non-nullable to be used in this position.",
    ),
    # DeferStreamDirectiveOnRootFieldRule, StreamDirectiveOnListFieldRule
    _form(
        rf"(?P<directive>Defer|Stream) directive cannot be used on root"
        rf" (?P<operation>query|mutation|subscription) type {TYPE}\.",
        r"\g<directive> directive cannot be used on the root \g<operation> type.",
    ),
    _form(
        rf"Stream directive cannot be used on non-list field(?P<field> '{NAME}')? on type {TYPE}\.",
        r"Stream directive cannot be used on non-list field\g<field>.",
    ),
    # input values (ValuesOfCorrectTypeRule, variable and argument coercion)
    _form(
        rf"Expected value of type {TYPE} to include required field '{NAME}', found: {VALUE}\.",
        r"A required input field is missing, found: \g<value>.",
    ),
    _form(
        rf"Expected value of type {TYPE} not to include unknown field '(?P<field>{NAME})'"
        rf"(?:, found|\. Found): {VALUE}\.",
        r"Unknown input field '\g<field>', found: \g<value>.",
    ),
    _form(rf"Expected value of type {TYPE} to be an object, found: {VALUE}\.", INVALID),
    _form(
        rf"Expected value of type {TYPE}(?:, but encountered error .*; found|, found): {VALUE}\.",
        INVALID,
    ),
    _form(
        rf"Expected value of non-null type {TYPE} not to be None\.", "Value null is not valid here."
    ),
    _form(
        rf"Expected a value of non-null type {TYPE} to be provided\.", "A value is required here."
    ),
    _form(
        rf"Expected variable '\$(?P<variable>{NAME})' provided to type {TYPE}"
        r" to provide a runtime value\.",
        r"Variable '$\g<variable>' must provide a value here.",
    ),
    _form(
        rf"Expected variable '\$(?P<variable>{NAME})' provided to non-null type {TYPE}"
        r" not to be None\.",
        r"Variable '$\g<variable>' must not be null here.",
    ),
    _form(
        rf"Expected variable '\$(?P<variable>{NAME})' provided to field '(?P<field>{NAME})'"
        rf" for OneOf Input Object type {TYPE} to provide a runtime value\.",
        r"Variable '$\g<variable>' provided to field '\g<field>' must provide a value.",
    ),
    _form(
        rf"Expected variable '\$(?P<variable>{NAME})' provided to field '(?P<field>{NAME})'"
        rf" for OneOf Input Object type {TYPE} not to be None\.",
        r"Variable '$\g<variable>' provided to field '\g<field>' must not be null.",
    ),
    _form(
        rf"Within OneOf Input Object type {TYPE}, exactly one field must be specified,"
        r" and the value for that field must be non-null\.",
        "Exactly one input field must be given here, and its value must not be null.",
    ),
    # the built-in scalars and enums
    _form(rf"(?:Int|Float|String|Boolean|ID) cannot represent [^:]*: {VALUE}", INVALID),
    _form(
        rf"Value '(?P<value>.*)' does not exist in {TYPE} enum\.",
        r"Value '\g<value>' is not valid here.",
    ),
    _form(rf"Enum {TYPE} cannot represent non-(?:enum|string) value: {VALUE}\.", INVALID),
    # argument coercion at run time (validation catches these first)
    _form(
        rf"Argument '{NAME}' of required type {TYPE} was not provided\.",
        "A required argument was not provided.",
    ),
    _form(
        rf"Variable '\${NAME}' defined by fragment '(?P<fragment>{NAME})' of required type {TYPE}"
        r" was not provided\.",
        r"Fragment '\g<fragment>' is missing a required argument.",
    ),
    # strawberry: its scalars, OneOf and Maybe rules
    _form(r"Value cannot represent an? [^:]*: (?P<value>\".*?\")\.(?: .*)?", INVALID),
    _form(
        rf"OneOf Input Object {TYPE} must specify exactly one key\.",
        "Exactly one input field must be given here.",
    ),
    _form(
        rf"Field '{NAME}\.(?P<field>{NAME})' must be non-null\.",
        r"Field '\g<field>' must not be null.",
    ),
    _form(
        rf"Variable '(?P<variable>{NAME})' must be non-nullable to be used"
        rf" for OneOf Input Object {TYPE}\.",
        r"Variable '$\g<variable>' must be non-nullable to be used in this position.",
    ),
    _form(
        rf"Expected value of type {TYPE}, found null\. (?P<kind>Argument|Field) '(?P<name>{NAME})'"
        rf" of type {TYPE} cannot be explicitly set to null\. Use {TYPE} if you need"
        r" to allow null values\.",
        r"\g<kind> '\g<name>' must not be null.",
    ),
)

# A message that wraps another: its head names what the client wrote (a variable,
# an argument, a path into the variables), and the message it wraps is rewritten.
WRAPPER = re.compile(
    rf"(?P<head>(?:Variable '\${NAME}'(?: defined by fragment '{NAME}')?|Argument '{NAME}')"
    r" has invalid (?:default )?value(?: at [\w.\[\]]+)?): (?P<inner>.*)",
    re.DOTALL,
)
# OverlappingFieldsCanBeMergedRule gives reasons within reasons; only this one names types.
CONFLICTING_TYPES = re.compile(rf"they return conflicting types {TYPE} and {TYPE}")


def schema_free(message: str) -> str:
    """`message` rewritten to name only what the client wrote (unchanged if it already does)."""
    wrapped = WRAPPER.fullmatch(message)
    if wrapped is not None:
        return f"{wrapped['head']}: {schema_free(wrapped['inner'])}"
    message = CONFLICTING_TYPES.sub("they return conflicting types", message)
    for form in FORMS:
        match = form.pattern.fullmatch(message)
        if match is not None:
            return match.expand(form.generic)
    return message
