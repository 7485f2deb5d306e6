"""The accountants' workspace: clients, entries and their statuses, sync, rejections, diagnostics."""
