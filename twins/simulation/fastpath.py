def applicable(net):
    return False
