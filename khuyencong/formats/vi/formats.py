"""Vietnamese administrative dates: dd/mm/yyyy, a time before its date ("10:14 30/11/2026") as on
the portal's own pages, everywhere Django formats a date by itself (the admin's change lists and
forms, ``{{ value }}`` and ``|date`` without a format). Django's own Vietnamese formats write
"10:14 Ngày 30 tháng 11 năm 2026" and "30-11-2026". Documents that spell the date out
("Hà Nội, ngày 30 tháng 11 năm 2026") use khuyencong.formatting.format_date_long."""

DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "H:i d/m/Y"  # as khuyencong.formatting.format_datetime
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
