from django.db import migrations

from garde.cell import seeds


def load_reference_data(apps, schema_editor):
    seeds.load(apps)


class Migration(migrations.Migration):
    dependencies = [("cell", "0001_initial")]
    operations = [migrations.RunPython(load_reference_data, migrations.RunPython.noop)]
