"""Each script once per page.

sphinx-thebe 0.3.1 adds its configuration, an inline script (``const THEBE_JS_URL = ...``), with
``app.add_js_file(None, body=...)`` once the builder exists. Sphinx 7.4 stores it in the builder
(file name ``None``) and in its registry, from which the builder's script list is rebuilt with
the file name ``''``; the two no longer compare equal, so every page carries both copies and the
second declaration throws ``Identifier 'THEBE_JS_URL' has already been declared`` in the browser.
This keeps the first of identical scripts (same file, or no file and the same inline body).
"""


def _key(script):
    attrs = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", script) or "", tuple(sorted(attrs.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
