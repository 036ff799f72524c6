namespace ZeroLane.Tests.Infrastructure;
