from django.db import migrations


class Migration(migrations.Migration):
    """A counter of catalog changes (papers.services.catalog_changed), read by the pages'
    conditional GET (papers.selectors.catalog_version)."""

    dependencies = [("papers", "0008_removed_person")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE papers_catalog_version",
            reverse_sql="DROP SEQUENCE papers_catalog_version",
        )
    ]
