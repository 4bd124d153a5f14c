# Issue 12, item 10: shop names compared by their confusable skeleton.
# The column is added without its unique index, filled (a shop whose skeleton clashes with an
# older shop's is left NULL: it must rename before its profile can be saved again), then made
# unique.

from django.db import migrations, models


def fill_skeletons(apps, schema_editor):
    from marketplace.confusables import shop_name_skeleton

    SellerProfile = apps.get_model("marketplace", "SellerProfile")
    seen = set()
    for profile in SellerProfile.objects.order_by("pk").only("pk", "shop_name"):
        skeleton = shop_name_skeleton(profile.shop_name) or profile.shop_name
        if skeleton in seen:
            continue
        seen.add(skeleton)
        SellerProfile.objects.filter(pk=profile.pk).update(name_skeleton=skeleton)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0017_cache_table"),
    ]

    operations = [
        migrations.AddField(
            model_name="sellerprofile",
            name="name_skeleton",
            field=models.CharField(
                editable=False, max_length=255, null=True, verbose_name="name skeleton"
            ),
        ),
        migrations.RunPython(fill_skeletons, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sellerprofile",
            name="name_skeleton",
            field=models.CharField(
                editable=False, max_length=255, null=True, unique=True, verbose_name="name skeleton"
            ),
        ),
    ]
