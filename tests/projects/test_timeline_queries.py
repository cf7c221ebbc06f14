"""The đề án page's history names each changed foreign key (a budget line's content or establishment) by
its target. It did so with a query per old and new value of every edit (≈ 5 more queries per edit, 73
after ten edits); the targets are now loaded in bulk, one query per model, whatever the history holds."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services
from projects.models import DeAn, Establishment

from .factories import content, ready_de_an


def _switch_lines(actor, de_an, times):
    """Edit the đề án ``times`` times, each time moving every budget line to another content and
    establishment (both foreign keys change on every edit)."""
    ests = list(Establishment.objects.filter(de_an_links__de_an=de_an))
    codes = ("1.2", "4.1")
    for i in range(times):
        de_an = DeAn.objects.get(pk=de_an.pk)
        lines = [{"id": line.pk, "description": line.description, "source": line.source, "amount": line.amount,
                  "content": content(codes[(i + k) % 2]), "cost_basis": line.cost_basis,
                  "establishment": ests[(i + k + 1) % len(ests)]}
                 for k, line in enumerate(de_an.budget_lines.order_by("pk"))]
        services.de_an_update(actor=actor, de_an=de_an, revision=de_an.revision, budget_lines=lines)
    return DeAn.objects.get(pk=de_an.pk)


def test_history_names_changed_keys_with_a_constant_number_of_queries(users, client_as):
    once = _switch_lines(users.centre, ready_de_an(users.centre), 1)
    often = _switch_lines(users.centre, ready_de_an(users.centre), 10)
    c = client_as(users.centre)

    def count(d):
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(reverse("projects:detail", args=[d.pk]))
            assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    n_once, _page = count(once)
    n_often, page = count(often)
    assert n_once == n_often
    assert n_often <= 26  # 25, and one since each beneficiary says how many other đề án it is in
    # The keys are still shown by name, not by id.
    est_names = set(Establishment.objects.filter(de_an_links__de_an=often).values_list("name", flat=True))
    assert any(name in page for name in est_names)
    assert str(content("4.1")) in page
