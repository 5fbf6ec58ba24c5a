import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0007_handoff"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="email",
            name="parse_notices",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name="Explanation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model_version", models.CharField(max_length=128)),
                ("payload", models.JSONField()),
                ("compute_ms", models.FloatField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("email", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="explanations", to="inbox.email")),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("email", "model_version"), name="one_explanation_per_version")
                ],
            },
        ),
        migrations.CreateModel(
            name="ExplanationFlag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("model_version", models.CharField(max_length=128)),
                ("reason", models.TextField(blank=True, max_length=1000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("email", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="explanation_flags", to="inbox.email")),
                ("user", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["model_version", "-created_at"], name="flag_version")],
            },
        ),
    ]
