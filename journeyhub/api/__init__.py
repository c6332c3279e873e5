"""DRF pieces shared by both apps' APIs: the guarded JSON parser, the exception
handler and the bounded filter set."""
