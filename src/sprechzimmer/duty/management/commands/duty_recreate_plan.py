from django.core.management.base import BaseCommand, CommandError

from sprechzimmer.duty import plans
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Plan


class Command(BaseCommand):
    help = (
        "Computes a duty plan again from the input stored with it (its last solve) and says whether "
        "the result is the recorded one, duty by duty (docs/duty.md, 'Reproducible plans'). Changes "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("plan", type=int, help="die Nummer (id) des Plans")

    def handle(self, *args, plan, **options):
        found = Plan.objects.filter(pk=plan).select_related("area").first()
        if found is None:
            raise CommandError(f"Einen Plan {plan} gibt es nicht.")
        try:
            again = plans.recreate(found)
        except DutyError as error:
            raise CommandError(str(error)) from None
        record = found.planning_record
        if again.differing:
            raise CommandError(
                f"{found}: {len(again.differing)} von {len(again.assignment)} Diensten weichen ab "
                f"(Dienste {', '.join(map(str, again.differing[:20]))}). "
                + ("Die Berechnung war durch DUTY_PLAN_SECONDS abgebrochen." if record.get("capped") else "")
            )
        # A plan of a KV-wide run was planned in parts (one input each); they share planner and seed.
        inputs = [part["input"] for part in record["parts"]] if "parts" in record else [record["input"]]
        budget = sum(data["rules"]["work_limit"] for data in inputs)
        self.stdout.write(
            f"{found}: nachgerechnet, alle {len(again.assignment)} Dienste wie gespeichert "
            f"(Planer {inputs[0]['planner']}, OR-Tools {record['ortools']}, Seed "
            f"{inputs[0]['rules']['seed']}, Budget {budget:g}"
            + (f" in {len(inputs)} Teilen, Planung der ganzen KV" if "parts" in record else "")
            + ")."
        )
