package webui
