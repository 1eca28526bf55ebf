console.log('ssekit');
