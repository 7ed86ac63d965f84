"""Benchmark cases: JSON schemas in the style of JSONSchemaBench's subsets (GitHub easy/medium/hard, Glaive
function calling, Kubernetes, Snowplow, Washington Post) and MaskBench, written from their public descriptions,
plus Phi-4-mini tool-call argument schemas; each with one valid instance (the token sequence the masks are
computed along). Only features every engine compared here supports (PhiKit's subset: see
Sources/PhiGeneration/Constraint/JSONSchemaCompiler.swift)."""

CASES = [
    ("github-easy: repo", {"type": "object", "properties": {
        "name": {"type": "string"}, "full_name": {"type": "string"}, "private": {"type": "boolean"},
        "stars": {"type": "integer"}, "language": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        "required": ["name", "full_name", "private", "stars", "language"], "additionalProperties": False},
     {"name": "phikit", "full_name": "acme/phikit", "private": False, "stars": 1234, "language": "Swift"}),
    ("github-easy: package.json", {"type": "object", "properties": {
        "name": {"type": "string"}, "version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
        "description": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}},
        "license": {"type": "string"}}, "required": ["name", "version"], "additionalProperties": False},
     {"name": "left-pad", "version": "1.3.0", "description": "String left pad", "keywords": ["pad", "string"], "license": "WTFPL"}),
    ("github-medium: issue", {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "state": {"enum": ["open", "closed"]},
        "labels": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string", "pattern": "^[0-9a-f]{6}$"}}, "required": ["name", "color"], "additionalProperties": False}},
        "assignee": {"anyOf": [{"type": "object", "properties": {"login": {"type": "string"}}, "required": ["login"], "additionalProperties": False}, {"type": "null"}]},
        "created_at": {"type": "string", "format": "date-time"}},
        "required": ["id", "title", "state", "labels", "assignee", "created_at"], "additionalProperties": False},
     {"id": 11, "title": "JSON that always parses", "state": "open", "labels": [{"name": "feature", "color": "a2eeef"}], "assignee": {"login": "lead"}, "created_at": "2026-12-04T13:17:32Z"}),
    ("github-medium: workflow step", {"type": "object", "properties": {
        "name": {"type": "string"}, "uses": {"type": "string"}, "run": {"type": "string"},
        "with": {"type": "object", "properties": {"python-version": {"type": "string"}, "cache": {"type": "string"}}, "additionalProperties": False},
        "timeout-minutes": {"type": "integer"}, "continue-on-error": {"type": "boolean"}},
        "required": ["name"], "additionalProperties": False},
     {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": "3.12", "cache": "pip"}, "timeout-minutes": 10}),
    ("github-hard: recursive tree", {"$defs": {"node": {"type": "object", "properties": {
        "name": {"type": "string"}, "size": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["name", "children"], "additionalProperties": False}},
        "$ref": "#/$defs/node"},
     {"name": "root", "children": [{"name": "src", "size": 3, "children": [{"name": "main.swift", "size": 120, "children": []}]}, {"name": "README.md", "children": []}]}),
    ("glaive: get_weather args", {"type": "object", "properties": {
        "location": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["location", "unit"], "additionalProperties": False},
     {"location": "San Francisco, CA", "unit": "celsius"}),
    ("glaive: send_email args", {"type": "object", "properties": {
        "to": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
        "subject": {"type": "string"}, "body": {"type": "string"}, "cc": {"type": "array", "items": {"type": "string"}}},
        "required": ["to", "subject", "body"], "additionalProperties": False},
     {"to": ["ana@example.com"], "subject": "Quarterly report", "body": "Hi Ana,\nthe report is attached.\nBest, Bo"}),
    ("glaive: create_event args", {"type": "object", "properties": {
        "title": {"type": "string"}, "date": {"type": "string", "format": "date"}, "start_time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "duration_minutes": {"type": "integer"}, "attendees": {"type": "array", "items": {"type": "string"}, "maxItems": 10}},
        "required": ["title", "date", "start_time"], "additionalProperties": False},
     {"title": "Design review", "date": "2026-12-07", "start_time": "14:30", "duration_minutes": 45, "attendees": ["ana", "bo", "chen"]}),
    ("kubernetes: container", {"type": "object", "properties": {
        "name": {"type": "string"}, "image": {"type": "string"},
        "ports": {"type": "array", "items": {"type": "object", "properties": {"containerPort": {"type": "integer"}, "protocol": {"enum": ["TCP", "UDP", "SCTP"]}}, "required": ["containerPort"], "additionalProperties": False}},
        "env": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}, "required": ["name"], "additionalProperties": False}},
        "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}},
        "required": ["name", "image"], "additionalProperties": False},
     {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP"}], "env": [{"name": "MODE", "value": "prod"}], "imagePullPolicy": "IfNotPresent"}),
    ("kubernetes: resource quota", {"type": "object", "properties": {
        "apiVersion": {"const": "v1"}, "kind": {"const": "ResourceQuota"},
        "metadata": {"type": "object", "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}}, "required": ["name"], "additionalProperties": False},
        "spec": {"type": "object", "properties": {"hard": {"type": "object", "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}, "pods": {"type": "string"}}, "additionalProperties": False}}, "additionalProperties": False}},
        "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False},
     {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute", "namespace": "team-a"}, "spec": {"hard": {"cpu": "20", "memory": "64Gi", "pods": "50"}}}),
    ("snowplow: event", {"type": "object", "properties": {
        "event_id": {"type": "string", "format": "uuid"}, "category": {"type": "string", "maxLength": 32},
        "action": {"type": "string", "maxLength": 32}, "label": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "value": {"anyOf": [{"type": "number"}, {"type": "null"}]}},
        "required": ["event_id", "category", "action"], "additionalProperties": False},
     {"event_id": "123e4567-e89b-12d3-a456-426614174000", "category": "video", "action": "play", "label": None, "value": 12.5}),
    ("washingtonpost: article", {"type": "object", "properties": {
        "headline": {"type": "string"}, "byline": {"type": "array", "items": {"type": "string"}},
        "section": {"enum": ["politics", "business", "technology", "sports", "opinions"]},
        "published": {"type": "string", "format": "date-time"}, "word_count": {"type": "integer"},
        "related": {"type": "array", "items": {"type": "object", "properties": {"url": {"type": "string"}, "title": {"type": "string"}}, "required": ["url", "title"], "additionalProperties": False}, "maxItems": 3}},
        "required": ["headline", "byline", "section", "published"], "additionalProperties": False},
     {"headline": "Small models, strict JSON", "byline": ["A. Writer"], "section": "technology", "published": "2026-12-04T09:00:00-05:00", "word_count": 812, "related": [{"url": "https://example.com/a", "title": "Grammars"}]}),
    ("maskbench: nested arrays", {"type": "object", "properties": {
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 4}},
        "labels": {"type": "array", "items": {"type": "string", "maxLength": 10}}},
        "required": ["matrix", "labels"], "additionalProperties": False},
     {"matrix": [[1, 2.5, -3], [4e2, 0.25]], "labels": ["rows", "cols"]}),
    ("maskbench: unicode strings", {"type": "object", "properties": {
        "text": {"type": "string"}, "lang": {"enum": ["de", "ja", "ar", "emoji"]}, "chars": {"type": "integer"}},
        "required": ["text", "lang"], "additionalProperties": False},
     {"text": "Grüße aus Zürich — こんにちは 世界 😀👍 «citation» \"quoted\" \\ back", "lang": "ja", "chars": 48}),
    ("maskbench: long free text", {"type": "object", "properties": {
        "summary": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["summary", "confidence"], "additionalProperties": False},
     {"summary": "The model generates a structured answer token by token while the matcher masks every token that would break the schema. Because most of the vocabulary is allowed inside a string, the mask there must be computed without walking every token.", "confidence": 0.93}),
    ("maskbench: enums and consts", {"type": "object", "properties": {
        "op": {"const": "update"}, "target": {"enum": ["user", "group", "role", "policy"]},
        "flags": {"type": "array", "items": {"enum": ["force", "dry-run", "verbose", "quiet"]}, "maxItems": 4},
        "level": {"enum": [1, 2, 3, None]}},
        "required": ["op", "target", "flags", "level"], "additionalProperties": False},
     {"op": "update", "target": "policy", "flags": ["dry-run", "verbose"], "level": 2}),
    ("phi4-mini tool: get_weather_updates", {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"], "additionalProperties": False},
     {"city": "London", "days": 3}),
    ("phi4-mini tool call list", {"type": "array", "items": {"anyOf": [
        {"type": "object", "properties": {"name": {"const": "get_weather_updates"}, "arguments": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}, "required": ["name", "arguments"], "additionalProperties": False},
        {"type": "object", "properties": {"name": {"const": "search_web"}, "arguments": {"type": "object", "properties": {"query": {"type": "string"}, "max_results": {"type": "integer"}}, "required": ["query"], "additionalProperties": False}}, "required": ["name", "arguments"], "additionalProperties": False}]},
        "minItems": 1},
     [{"name": "search_web", "arguments": {"query": "Phi-4-mini function calling", "max_results": 5}}, {"name": "get_weather_updates", "arguments": {"city": "Paris"}}]),
    ("openai strict: extraction", {"type": "object", "properties": {
        "people": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "email": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, "required": ["name", "age", "email"], "additionalProperties": False}}},
        "required": ["people"], "additionalProperties": False},
     {"people": [{"name": "Ana Lima", "age": 34, "email": "ana@example.com"}, {"name": "Bo Chen", "age": None, "email": None}]}),
    ("openai strict: recursive UI", {"$defs": {"ui": {"type": "object", "properties": {
        "type": {"enum": ["div", "button", "header", "section", "field", "form"]}, "label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/ui"}},
        "attributes": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}, "required": ["name", "value"], "additionalProperties": False}}},
        "required": ["type", "label", "children", "attributes"], "additionalProperties": False}}, "$ref": "#/$defs/ui"},
     {"type": "form", "label": "Sign up", "children": [{"type": "field", "label": "Email", "children": [], "attributes": [{"name": "type", "value": "email"}]}, {"type": "button", "label": "Submit", "children": [], "attributes": []}], "attributes": []}),
    ("any JSON value fields", {"type": "object", "properties": {
        "id": {"type": "string"}, "payload": {}}, "required": ["id", "payload"], "additionalProperties": False},
     {"id": "evt-1", "payload": {"a": [1, 2, {"b": None}], "c": "d", "e": True}}),
    ("math answer", {"type": "object", "properties": {
        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 8},
        "answer": {"type": "number"}}, "required": ["steps", "answer"], "additionalProperties": False},
     {"steps": ["12 * 4 = 48", "48 + 2 = 50"], "answer": 50}),
]
