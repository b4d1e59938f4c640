# What the examples and main.py use besides `caching`: the lesson runner, the tables and the reports. The one list of
# `caching.lab`'s names: `__init__.py` loads each on first use (lazy_loader reads this file).
from .cli import below_minimum as below_minimum
from .cli import console_for as console_for
from .cli import explain_error as explain_error
from .cli import is_fatal as is_fatal
from .cli import lesson as lesson
from .cli import load as load
from .cli import parser as parser
from .cli import run as run
from .reports import bar_chart as bar_chart
from .reports import calls_table as calls_table
from .reports import comparison_chart as comparison_chart
from .reports import doctor_table as doctor_table
from .reports import plural as plural
from .reports import saving as saving
from .reports import session_line as session_line
from .reports import session_summary as session_summary
from .reports import table as table
from .reports import tokens as tokens
from .reports import turn_line as turn_line
from .reports import turns_table as turns_table
from .reports import usd as usd
from .screens import audit_report as audit_report
from .terminal import say_error as say_error
from .terminal import show_answer as show_answer
