class PassageMethods:
    pass
