# Alert texts the relay alone shows, in English. The titles and details of inbox alerts
# (alert-…) are in core/locales/en/core.ftl: the phone renders them too, through core's catalog.
