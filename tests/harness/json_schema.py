"""A small JSON Schema (draft 2020-12) validator for the tests, standard
library only. It knows the keywords the project's schemas use -- type,
const, enum, minimum, maxLength, minItems, required, properties,
additionalProperties (false or a schema), items, oneOf and $ref to
"#/$defs/..." -- and refuses a schema with any other keyword, so that a
schema cannot silently ask for more than is checked.
"""

KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "const", "enum",
         "minimum", "maxLength", "minItems", "required", "properties",
         "additionalProperties", "items", "oneOf", "$ref"}

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(Exception):
    """The schema itself uses something this validator does not know."""


def validate(instance, schema):
    """The list of errors ("path: what"), empty when "instance" is valid."""
    errors = []
    _check(instance, schema, schema, "$", errors)
    return errors


def _resolve(root, ref):
    if not ref.startswith("#/"):
        raise SchemaError(f"only local $ref is supported: {ref}")
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _check(v, s, root, path, errors):
    unknown = set(s) - KNOWN
    if unknown:
        raise SchemaError(f"unsupported keywords {sorted(unknown)} at {path}")
    if "$ref" in s:
        _check(v, _resolve(root, s["$ref"]), root, path, errors)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(TYPES[t](v) for t in types):
            errors.append(f"{path}: {v!r:.60} is not of type {types}")
            return
    if "const" in s and (v != s["const"] or type(v) is not type(s["const"])):
        errors.append(f"{path}: {v!r:.60} is not {s['const']!r}")
    if "enum" in s and v not in s["enum"]:
        errors.append(f"{path}: {v!r:.60} is not one of {s['enum']}")
    numeric = TYPES["number"](v)
    if "minimum" in s and numeric and v < s["minimum"]:
        errors.append(f"{path}: {v} < {s['minimum']}")
    if "maxLength" in s and isinstance(v, str) and len(v) > s["maxLength"]:
        errors.append(f"{path}: longer than {s['maxLength']}")
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errors.append(f"{path}: fewer than {s['minItems']} items")
        if "items" in s:
            for i, item in enumerate(v):
                _check(item, s["items"], root, f"{path}[{i}]", errors)
    if isinstance(v, dict):
        for key in s.get("required", []):
            if key not in v:
                errors.append(f"{path}: missing {key!r}")
        props = s.get("properties", {})
        for key, item in v.items():
            if key in props:
                _check(item, props[key], root, f"{path}.{key}", errors)
            elif s.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected field {key!r}")
            elif isinstance(s.get("additionalProperties"), dict):
                _check(item, s["additionalProperties"], root, f"{path}.{key}", errors)
    if "oneOf" in s:
        passing = sum(1 for sub in s["oneOf"] if not validate_sub(v, sub, root, path))
        if passing != 1:
            errors.append(f"{path}: matches {passing} of the oneOf alternatives, not 1")


def validate_sub(v, s, root, path):
    errors = []
    _check(v, s, root, path, errors)
    return errors
