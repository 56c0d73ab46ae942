Console.WriteLine("dfc");
