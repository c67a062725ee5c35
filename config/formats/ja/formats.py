# The manuals' forms: 2022年03月30日 12:28:56, with zero padding.
DATE_FORMAT = "Y年m月d日"
DATETIME_FORMAT = "Y年m月d日 H:i:s"
SHORT_DATE_FORMAT = "Y/m/d"
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"
TIME_FORMAT = "H:i:s"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
NUMBER_GROUPING = 3
THOUSAND_SEPARATOR = ","
