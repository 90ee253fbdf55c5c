#!/usr/bin/env python3
"""Django's manage.py for the e2e project (run with Debian's /usr/bin/python3)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2eproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
