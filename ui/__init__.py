"""The menu state machine, screens, texts (zh_CN default, en) and renderers."""
