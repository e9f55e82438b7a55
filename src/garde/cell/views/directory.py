"""The stakeholder directory: outside bodies and how to reach them without the hospital's IS."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.cell.forms import StakeholderForm
from garde.cell.models import Stakeholder
from garde.printing import pdf_response


@crisis_view(C.VIEW_CRISIS)
def stakeholders(request, crisis):
    return render(request, "cell/stakeholders.html", {"crisis": crisis, "stakeholders": Stakeholder.objects.all()})


@crisis_view(C.VIEW_CRISIS)
def stakeholders_pdf(request, crisis):
    context = {"crisis": crisis, "stakeholders": Stakeholder.objects.all()}
    return pdf_response("cell/print/stakeholders.html", context, "annuaire.pdf", request)


@crisis_view(C.MANAGE_STAKEHOLDERS)
def stakeholder_edit(request, crisis, stakeholder_id=None):
    item = get_object_or_404(Stakeholder, pk=stakeholder_id) if stakeholder_id else None
    form = StakeholderForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Directory updated."))
        return redirect("stakeholders", crisis.pk)
    return render(request, "cell/stakeholder_form.html", {"crisis": crisis, "form": form, "stakeholder": item})
