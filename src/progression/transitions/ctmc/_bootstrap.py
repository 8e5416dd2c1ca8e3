class BootstrapMethods:
    pass
