"""An adjustment's requested amount is the đề án's new support money of its own level's source (KCQG
or KCĐP), not only KCQG: the column is renamed (its values kept) and its CHECK follows the new name."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0007_notification_verbose_names'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='adjustment',
            name='adjustment_new_national_amount_non_negative',
        ),
        migrations.RenameField(
            model_name='adjustment',
            old_name='new_national_amount',
            new_name='new_amount',
        ),
        migrations.AlterField(
            model_name='adjustment',
            name='new_amount',
            field=models.BigIntegerField(blank=True, help_text='Kinh phí hỗ trợ mới của đề án từ nguồn của cấp đề án (KCQG hoặc KCĐP), đồng.', null=True, verbose_name='kinh phí hỗ trợ đề nghị'),
        ),
        migrations.AddConstraint(
            model_name='adjustment',
            constraint=models.CheckConstraint(condition=models.Q(('new_amount__isnull', True), ('new_amount__gte', 0), _connector='OR'), name='adjustment_new_amount_non_negative'),
        ),
    ]
