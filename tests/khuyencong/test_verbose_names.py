"""Every field of the portal's own models has a Vietnamese name (verbose_name): the admin (/quan-tri/),
form labels and validation messages show it. A field left without one shows Django's default, its code
name with the underscores replaced («requested by», «de an»), which is what this test catches."""
import pytest
from django.apps import apps

LOCAL_APPS = ("khuyencong", "projects", "funding", "reports", "dashboards")

# (app label, model name, field name) allowed to keep Django's default name. Keep this short: an entry is
# a field still to be named, never a way to silence the test.
ALLOWED: set[tuple[str, str, str]] = set()


def _models():
    for label in LOCAL_APPS:
        for model in apps.get_app_config(label).get_models():
            # simple_history's copies take their fields' names from the model they record.
            if model.__name__.startswith("Historical"):
                continue
            yield label, model


def _unnamed_fields():
    found = []
    for label, model in _models():
        for field in model._meta.concrete_fields:
            if field.auto_created and field.name == "id":
                continue
            if str(field.verbose_name) == field.name.replace("_", " "):
                found.append((label, model.__name__, field.name))
    return found


def test_every_field_has_a_vietnamese_name():
    missing = [f for f in _unnamed_fields() if f not in ALLOWED]
    assert not missing, "Fields without verbose_name (Django's default name): " + ", ".join(
        f"{label}.{model}.{field}" for label, model, field in missing)


def test_allowlist_holds_only_fields_still_unnamed():
    """An allowlisted field that has since been named is taken off the list, so the list only shrinks."""
    stale = ALLOWED - set(_unnamed_fields())
    assert not stale, "Named now, remove from ALLOWED: " + ", ".join(sorted(".".join(f) for f in stale))


@pytest.mark.parametrize("label", LOCAL_APPS)
def test_every_model_has_a_vietnamese_name(label):
    """Each model's Meta names it, in the singular and the plural (Django's defaults are its class name)."""
    missing = [model.__name__ for app, model in _models() if app == label and not (
        "verbose_name" in model._meta.original_attrs and "verbose_name_plural" in model._meta.original_attrs)]
    assert not missing, f"{label}: Meta without verbose_name / verbose_name_plural: {', '.join(missing)}"
