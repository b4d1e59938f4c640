"""The lab's own screens: tables and reports, the example runner, and the chat team of main.py."""
